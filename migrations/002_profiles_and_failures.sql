-- User profiles, maintained by the processor in the same transaction as the events they count.
-- Aggregates that are maps (event counts, devices, countries, preferences) are JSONB objects.
CREATE TABLE user_profiles (
  user_id            text PRIMARY KEY,
  first_seen_at      timestamptz,
  last_seen_at       timestamptz,
  total_events       integer NOT NULL DEFAULT 0,
  event_counts       jsonb NOT NULL DEFAULT '{}'::jsonb,
  session_count      integer NOT NULL DEFAULT 0,
  purchase_count     integer NOT NULL DEFAULT 0,
  total_spent        double precision NOT NULL DEFAULT 0,
  devices            jsonb NOT NULL DEFAULT '{}'::jsonb,
  countries          jsonb NOT NULL DEFAULT '{}'::jsonb,
  preferences        jsonb NOT NULL DEFAULT '{}'::jsonb,
  completion_sum     double precision NOT NULL DEFAULT 0,
  completion_count   integer NOT NULL DEFAULT 0,
  segment            text NOT NULL DEFAULT 'NEW',
  risk_score         double precision NOT NULL DEFAULT 0,
  updated_at         timestamptz NOT NULL DEFAULT now()
);

-- Distinct sessions per user: sessionCount counts rows here, so a redelivered event adds none.
CREATE TABLE user_sessions (
  user_id     text NOT NULL,
  session_id  text NOT NULL,
  started_at  timestamptz NOT NULL,
  PRIMARY KEY (user_id, session_id)
);

-- Records that reached the dead-letter topic, for the failedEvents query.
CREATE TABLE failed_events (
  seq         bigserial PRIMARY KEY,
  topic       text NOT NULL,
  partition   integer NOT NULL,
  "offset"    bigint NOT NULL,
  key         text,
  reason      text NOT NULL,
  failed_at   timestamptz NOT NULL DEFAULT now(),
  raw_value   text NOT NULL,
  UNIQUE (topic, partition, "offset")
);
