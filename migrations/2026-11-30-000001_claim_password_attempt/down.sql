DROP FUNCTION claim_password_attempt(text, text, integer, integer, integer);
