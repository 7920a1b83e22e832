"""The API's operations, one module per resource. Each is an entry point like a page's view: it
finds objects through the `visible_*` queries of their app, calls that app's actions, and enqueues
follow-up work on commit through that app's tasks."""
