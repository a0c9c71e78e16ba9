"""The stored-file aggregate: photos and documents customers are shown, and signed PDFs."""
