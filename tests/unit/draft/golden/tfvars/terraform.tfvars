# Set per environment.
retention = 14 # two weeks
