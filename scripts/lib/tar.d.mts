export interface TarEntryInput {
  /** As written into the archive; packages use './'-prefixed paths. */
  path: string;
  type?: 'file' | 'dir' | 'symlink';
  mode?: number;
  content?: Buffer | string;
  linkname?: string;
}
export interface TarEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname: string;
  content: Buffer;
}
export interface TarOptions {
  /** Seconds; default SOURCE_DATE_EPOCH (0 when unset). */
  mtime?: number;
  /** Directory-walk order, names sorted bytewise (default true). */
  sort?: boolean;
}
export function sourceDateEpoch(env?: NodeJS.ProcessEnv): number;
export function writeTar(entries: TarEntryInput[], options?: TarOptions): Buffer;
export function gzip(buffer: Buffer): Buffer;
export function writeTarGz(entries: TarEntryInput[], options?: TarOptions): Buffer;
export function readTar(buffer: Buffer): TarEntry[];
export function readTarGz(buffer: Buffer): TarEntry[];
