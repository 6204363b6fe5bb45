-- Web Push subscriptions: one row per device a person subscribed from the board (docs/push.md).
-- The endpoint is the push service's capability URL for that device; p256dh and auth are the
-- device's keys for RFC 8291 payload encryption (base64url). A device that subscribes again under
-- another account moves to that account (the endpoint is the key).
CREATE TABLE push_subscriptions (
  endpoint    text PRIMARY KEY CHECK (endpoint LIKE 'https://%' AND length(endpoint) <= 2000),
  username    text NOT NULL REFERENCES users (username) ON DELETE CASCADE ON UPDATE CASCADE,
  p256dh      text NOT NULL CHECK (p256dh ~ '^[A-Za-z0-9_-]{80,100}$'),
  auth        text NOT NULL CHECK (auth ~ '^[A-Za-z0-9_-]{16,32}$'),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_subscriptions_username_idx ON push_subscriptions (username);
