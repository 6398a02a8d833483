"""A stand-in for Telegram: a local Bot-API-compatible server and a web page that acts as the chat clients."""
