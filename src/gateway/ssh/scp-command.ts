import { splitShellWords } from '../policy/shell-words';

/** A legacy-protocol scp transfer as requested by an exec channel (`scp -t PATH` or `scp -f PATH`). */
export interface ScpTransfer {
  /** upload: the agent sends files to PATH (-t, "to"); download: the agent reads PATH (-f, "from"). */
  direction: 'upload' | 'download';
  path: string;
  recursive: boolean;
}

/**
 * Recognise the remote half of an scp transfer in an exec command line, as OpenSSH's scp sends it
 * (`scp -v -r -p -d -t -- /dest`). Returns null for anything else (then the channel is a plain exec).
 */
export function parseScpCommand(command: string): ScpTransfer | null {
  const words = splitShellWords(command);
  if (!words || words.length < 2) return null;
  const program = words[0].slice(words[0].lastIndexOf('/') + 1);
  if (program !== 'scp') return null;
  let direction: ScpTransfer['direction'] | null = null;
  let recursive = false;
  const paths: string[] = [];
  let optionsDone = false;
  for (const w of words.slice(1)) {
    if (!optionsDone && w === '--') {
      optionsDone = true;
    } else if (!optionsDone && w.startsWith('-') && w.length > 1) {
      for (const flag of w.slice(1)) {
        if (flag === 't') direction = 'upload';
        else if (flag === 'f') direction = 'download';
        else if (flag === 'r') recursive = true;
      }
    } else {
      paths.push(w);
    }
  }
  if (!direction || paths.length === 0) return null;
  return { direction, path: paths.join(' '), recursive };
}
