"""The local sandbox cloud: a moto server, a stand-in AWS provider, a sample stack, named drift.

Deliberately empty of imports: Terraform starts ``driftctl.sandbox.provider`` several times per plan,
and every import here would slow each start. Import from the submodules (``sandbox.sandbox`` ...).
"""
