"""The chat door: chat tokens, and the plain-text commands chat bots call with them."""
