"""The render worker: takes jobs off the queue and runs the desktop's engine on them."""
