import { Command, CommanderError } from 'commander';
import { ContractError } from '../../shared/contract';
import { GATEHOUSE_VERSION } from '../version';
import { CliError } from './cli-io';
import { registerAgentCommands } from './commands/agent-command';
import { registerApprovalCommands } from './commands/approvals-command';
import { registerAuditCommands } from './commands/audit-command';
import { registerConnectionCommands } from './commands/connection-command';
import { registerDemoCommand } from './commands/demo-command';
import { registerExportCommands } from './commands/export-command';
import { registerGrantCommands } from './commands/grant-command';
import { registerPolicyCommands } from './commands/policy-command';
import { registerReviewCommands } from './commands/review-command';
import { registerServeCommand } from './commands/serve-command';
import { registerSessionCommands } from './commands/sessions-command';
import { registerSettingsCommands } from './commands/settings-command';
import { registerVerifyCommand } from './commands/verify-command';

/** The `gatehouse` command: parse, run, and turn every failure into one line and an exit code. */
async function main(argv: string[]): Promise<void> {
  const program = new Command('gatehouse')
    .description('Gatehouse: an access gateway and review console for AI agents')
    .version(GATEHOUSE_VERSION)
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      // Usage errors in the same one-line form as every other failure ("(Did you mean ...)" joined on).
      outputError: (s, write) => write(`gatehouse: ${s.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')}\n`),
    });
  registerServeCommand(program);
  registerDemoCommand(program);
  registerConnectionCommands(program);
  registerAgentCommands(program);
  registerGrantCommands(program);
  registerSessionCommands(program);
  registerAuditCommands(program);
  registerReviewCommands(program);
  registerExportCommands(program);
  registerVerifyCommand(program);
  registerApprovalCommands(program);
  registerPolicyCommands(program);
  registerSettingsCommands(program);
  for (const c of program.commands) {
    c.exitOverride();
    for (const sub of c.commands) sub.exitOverride();
  }
  await program.parseAsync(argv);
}

main(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // Help and version exit 0; usage errors were already printed by commander.
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  const message = err instanceof ContractError || err instanceof CliError ? err.message : err instanceof Error ? err.message : String(err);
  process.stderr.write(`gatehouse: ${message.split('\n')[0]}\n`);
  process.exit(err instanceof CliError ? err.exitCode : 1);
});
