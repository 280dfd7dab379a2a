// Placeholder entry; the CLI is being written (see issue 2). Replaced by the real command tree.
process.stderr.write('gatehouse: CLI not built yet\n');
process.exit(1);
