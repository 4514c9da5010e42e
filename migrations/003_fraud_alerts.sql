-- Fraud alerts as they arrive on the alert topic. alert_id is deterministic (rule, user, window),
-- so a redelivered or re-raised alert is stored once.
CREATE TABLE fraud_alerts (
  seq          bigserial PRIMARY KEY,
  alert_id     text NOT NULL UNIQUE,
  user_id      text NOT NULL,
  rule         text NOT NULL,
  severity     text NOT NULL,
  message      text NOT NULL,
  detected_at  timestamptz NOT NULL,
  event_ids    jsonb NOT NULL DEFAULT '[]'::jsonb,
  details      jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE INDEX fraud_alerts_user_seq ON fraud_alerts (user_id, seq);
CREATE INDEX fraud_alerts_detected ON fraud_alerts (detected_at);
CREATE INDEX activity_events_received ON activity_events (received_at);
