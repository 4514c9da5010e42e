-- Processed activity events: one row per eventId, whatever Kafka redelivers.
-- seq orders rows for keyset pagination (cursors encode it); event_id is the dedup key.
CREATE TABLE activity_events (
  seq             bigserial PRIMARY KEY,
  event_id        text NOT NULL UNIQUE,
  user_id         text NOT NULL,
  type            text NOT NULL,
  occurred_at     timestamptz NOT NULL,
  received_at     timestamptz NOT NULL,
  processed_at    timestamptz NOT NULL DEFAULT now(),
  session_id      text,
  content_id      text,
  page_url        text,
  referrer        text,
  properties      jsonb NOT NULL DEFAULT '{}'::jsonb,
  device          jsonb,
  location        jsonb,
  ip_address      text,
  user_agent      text,
  kafka_partition integer NOT NULL,
  kafka_offset    bigint NOT NULL
);

CREATE INDEX activity_events_user_seq ON activity_events (user_id, seq);
CREATE INDEX activity_events_occurred ON activity_events (occurred_at);
CREATE INDEX activity_events_session ON activity_events (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX activity_events_content ON activity_events (content_id) WHERE content_id IS NOT NULL;
