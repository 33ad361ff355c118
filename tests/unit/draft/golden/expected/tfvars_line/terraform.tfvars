# Set per environment.
retention = 7 # two weeks
