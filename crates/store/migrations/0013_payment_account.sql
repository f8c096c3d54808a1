-- Shared by both backends. The account a payment was sent to (RIB, or provider:reference for
-- wallets and cash-out), so that a payment rejected for an account reason waits for a new one.
ALTER TABLE payments ADD COLUMN account TEXT;
