import type { TarEntryInput } from './tar.mjs';

export interface PackageFile {
  /** Absolute path on the target, e.g. /usr/bin/wanbond. */
  path: string;
  type?: 'file' | 'dir' | 'symlink';
  /** Default 0644 for files, 0755 for directories. */
  mode?: number;
  content?: Buffer | string;
  /** Read from this host path when content is not given. */
  source?: string;
  linkname?: string;
}
export interface IpkSpec {
  name: string;
  version: string;
  depends?: string[];
  provides?: string[];
  source?: string;
  sourceName?: string;
  license?: string;
  section?: string;
  url?: string;
  maintainer?: string;
  /** Default 'all'. */
  architecture?: string;
  description: string;
  files: PackageFile[];
  conffiles?: string[];
  /** postinst / prerm ship as postinst-pkg / prerm-pkg behind OpenWrt's generated wrappers. */
  scripts?: { postinst?: string; prerm?: string; preinst?: string; postrm?: string };
  /** Default SOURCE_DATE_EPOCH. */
  sourceDateEpoch?: number;
}
export interface BuiltPackage {
  fileName: string;
  buffer: Buffer;
  control: string;
  installedSize: number;
}
export const OPENWRT_POSTINST: string;
export const OPENWRT_PRERM: string;
export function payloadEntries(files: PackageFile[]): TarEntryInput[];
export function controlText(spec: IpkSpec, installedSize: number): string;
export function buildIpk(spec: IpkSpec): BuiltPackage;
