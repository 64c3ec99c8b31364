"""The client book: clients and prospects, sales, the loyalty ladder, portfolios and territories."""
