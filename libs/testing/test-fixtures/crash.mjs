// Fixture app that fails at start, as a misconfigured service does.
process.stdout.write(
  `${JSON.stringify({ level: 50, msg: 'invalid config: SLIPWAY_FIXTURE_DB is required' })}\n`,
);
process.exit(3);
