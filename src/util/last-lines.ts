/** The last lines of a command's output, on one line: enough to say why it failed. */
export function lastLines(output: string, count = 3): string {
  return output.trim().split('\n').slice(-count).join(' | ');
}
