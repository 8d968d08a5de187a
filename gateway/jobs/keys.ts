// Where a job's bytes live in the artifact store (registry/artifacts/port.ts
// SAFE_KEY admits exactly these), and how its input is split into requests.
export const inputKey = (jobId: string): string => `_jobs/${jobId}/input.jsonl`;
export const chunkKey = (jobId: string, chunk: number): string =>
  `_jobs/${jobId}/results-${String(chunk).padStart(6, '0')}.jsonl`;

// The requests of a JSONL input: one per non-blank line (a trailing newline,
// CRLF line ends and blank lines are allowed), as views of `input`.
export function splitLines(input: Uint8Array): Buffer[] {
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const lines: Buffer[] = [];
  let start = 0;
  for (;;) {
    const end = buf.indexOf(0x0a, start);
    const line = buf.subarray(start, end === -1 ? buf.byteLength : end);
    if (!isBlank(line)) lines.push(line);
    if (end === -1) return lines;
    start = end + 1;
  }
}

function isBlank(line: Buffer): boolean {
  for (let i = 0; i < line.byteLength; i++) {
    const c = line[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}
