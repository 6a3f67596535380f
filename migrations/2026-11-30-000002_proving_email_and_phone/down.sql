DROP FUNCTION claim_address_attempt(text, integer, integer);
DROP TABLE phone_verifications;
DROP TABLE password_reset_tokens;
DROP TABLE outbox;
DROP INDEX users_phone;
DROP INDEX users_verified_phone_key;
CREATE UNIQUE INDEX users_phone_key ON users (phone);
ALTER TABLE users DROP COLUMN phone_verified;
