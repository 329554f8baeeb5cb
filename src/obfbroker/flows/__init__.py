"""Work that spans domains, above them: a flow calls the domains' services (never their
repositories) and no domain imports a flow. A flow's route lives beside it, so the domain whose
URL it shares does not have to import the flow (that would be a cycle)."""
