"""One module per messaging provider: parse inbound bodies, build outbound ones."""
