"""Repository functions: plain pymongo calls, one module per collection."""
