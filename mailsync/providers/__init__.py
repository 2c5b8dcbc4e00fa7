"""Provider clients: one module per mail provider behind a small interface."""
