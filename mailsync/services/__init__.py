"""Services of the mail sync: connecting, tokens, syncing and sending."""
