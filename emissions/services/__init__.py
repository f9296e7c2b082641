"""Writes of the operator side. Import from the submodules:
`installations` (installations), `reports` (emissions reports, processes, computation, lifecycle,
template import), `sharing` (grants to declarants, access log, data requests)."""
