export function writeAr(members: { name: string; content: Buffer | string }[], options?: { mtime?: number }): Buffer;
export function readAr(buffer: Buffer): { name: string; content: Buffer }[];
