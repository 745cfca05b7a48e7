"""Evidence packs for audits: what a client's runs over a period showed, signed and verifiable."""
