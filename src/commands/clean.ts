import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { exitCodeHelp, ExitCode } from '../errors/exit-codes.js';
import { InputError } from '../errors/input-error.js';
import { RcError } from '../errors/rc-error.js';
import { listPath } from '../config/load-config.js';
import { isLargeList, keepHeapSmall } from '../cli/large-run-heap.js';
import { reportFailed, type CleanReport } from '../report/clean-report.js';
import { cleanReportLines } from '../report/print-clean-report.js';

export default class Clean extends BaseCommand {
  static override summary = 'Delete exactly the listed images, prune emptied repositories, collect garbage and restart the registry.';

  static override description = `Reads the image list (one host[:port]/[path/]name:tag or name@sha256:… a line), validates all of it, then:
  parse list → verify existence → resolve digests → delete → prune emptied repositories → garbage-collect → restart.
Only the listed tags go: another tag on the same digest survives, and a multi-arch index's platform images are never deleted.
Images that do not exist are reported as absent; rerunning the same list succeeds.

${exitCodeHelp}`;

  static override examples = [
    '<%= config.bin %> clean                      # registry-images-clean.txt in this directory',
    '<%= config.bin %> clean --file images.txt --dry-run',
    '<%= config.bin %> clean 127.0.0.1:5000/demo/nginx:1.26 --no-gc',
    '<%= config.bin %> clean --json > report.json',
  ];

  static override args = {
    // ignoreStdin: without it oclif takes whatever is piped in (a shell loop's input, say) as
    // this argument when none is given, and a list file would be passed over for it.
    images: Args.string({ description: 'Images to delete, instead of a list file.', required: false, ignoreStdin: true }),
  };

  static override strict = false;

  static override flags = {
    file: Flags.string({ char: 'f', summary: 'The image list (default: the config\'s `file`, else registry-images-clean.txt).' }),
    'dry-run': Flags.boolean({ char: 'n', summary: 'Print the full plan and change nothing.', default: false }),
    gc: Flags.boolean({ summary: 'Run the registry\'s garbage collection after deleting.', default: true, allowNo: true }),
    restart: Flags.boolean({ summary: 'Restart the registry after garbage collection.', default: true, allowNo: true }),
    'force-gc': Flags.boolean({ summary: 'Collect garbage even if this run deletes nothing (to finish an interrupted or failed collection).', default: false }),
    concurrency: Flags.integer({ summary: 'Requests in flight at once per registry.', min: 1, max: 256 }),
  };

  async run(): Promise<CleanReport | undefined> {
    const { flags, argv } = await this.parse(Clean);
    const loaded = await this.loadUserConfig(flags.config);
    const { config, filepath } = loaded;
    const images = argv as string[];
    if (images.length > 0 && flags.file) {
      throw new InputError('give the images either as arguments or with --file, not both; nothing was touched');
    }
    const file = listPath(flags.file, loaded);
    const source = images.length > 0 ? { images } : { file };
    if (isLargeList(source)) keepHeapSmall();
    const abort = new AbortController();
    const interrupt = () => {
      if (abort.signal.aborted) {
        process.stderr.write('\nQuit at once: requests in flight and a registry restart may be left unfinished; run rc again\n');
        process.exit(ExitCode.failed);
      }
      process.stderr.write('\nInterrupted: finishing requests in flight, starting nothing new, restarting a registry whose GC began (Ctrl-C again to quit at once)\n');
      abort.abort(new RcError('interrupted', { exitCode: ExitCode.failed }));
    };
    process.on('SIGINT', interrupt);
    process.on('SIGTERM', interrupt);
    try {
      // The pipeline (every step, listr2) loads only once flags and config are known to be usable.
      const { runClean } = await import('../pipeline/run-clean.js');
      const { report, error } = await runClean({
        config,
        configFile: filepath,
        renderer: this.renderer(flags),
        signal: abort.signal,
        options: {
          dryRun: flags['dry-run'],
          concurrency: flags.concurrency ?? config.concurrency,
          gc: flags.gc,
          forceGc: flags['force-gc'],
          restart: flags.restart,
          source,
        },
      });
      const exitCode = report.error?.exitCode ?? (reportFailed(report) ? ExitCode.failed : ExitCode.ok);
      // Bad input is reported as an error alone: there is nothing else to show.
      if (error !== undefined && exitCode === ExitCode.badInput) throw error;
      process.exitCode = exitCode;
      if (this.jsonEnabled()) return report;
      if (!flags.silent && report.images.length > 0) writeLines(cleanReportLines(report));
      if (flags.silent) {
        for (const image of report.images.filter((i) => i.status === 'failed')) process.stderr.write(`failed: ${image.image}: ${image.reason}\n`);
      }
      if (error !== undefined) throw error;
      return report;
    } finally {
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
    }
  }
}

/** Writes lines to stdout a few hundred at a time: one write per line is slow, one string for all of them is big. */
function writeLines(lines: Iterable<string>): void {
  let chunk: string[] = [];
  for (const line of lines) {
    chunk.push(line);
    if (chunk.length === 500) {
      process.stdout.write(`${chunk.join('\n')}\n`);
      chunk = [];
    }
  }
  if (chunk.length > 0) process.stdout.write(`${chunk.join('\n')}\n`);
}
