"""Time is data: deadlines (planned, moved and cancelled with their subject), the sweep's set-based
batches and statements. Each concept keeps its own deadline handlers; server/domain/deadline_handlers.py
lists them."""
