"""Getting the bot's messages out: the outbox rows a change writes in its own transaction (`outbox`), the
sender that delivers them through each platform's transport (`sender`) within its rate limits
(`ratelimit`), the encrypted store of the files citizens send (`filestore`), and telling an agency's
secretariat when its group cannot be reached (`unreachable`)."""
