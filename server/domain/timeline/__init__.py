"""Time is data: deadlines, and the sweep's set-based batches."""
