"""The LLM side: prompts and schemas, the requests a night makes, batch files, the local engine and server, the batch client and ledger, prices."""
