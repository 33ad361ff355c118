"""Risk assessment of verified fixes: blast radius, checkov, Rego policies, score and decision."""
