"""The collectors that bring mentions in from the platforms (docs/deployment.md,
"Listening collectors"): Bluesky's Jetstream, Mastodon's hashtag timelines and searches,
RSS/Atom feeds. Each is a long-running process started by a management command
(`listen_bluesky`, `listen_mastodon`, `listen_feeds`) and keeps its cursor in
`CollectorState`; all of them store through `actions.mentions_ingest`."""
