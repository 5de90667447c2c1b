"""Figure helpers for the tutorials (matplotlib). The core library never imports this package."""
