import type { BuiltPackage, PackageFile } from './ipk.mjs';

export interface DebSpec {
  name: string;
  version: string;
  architecture?: string;
  maintainer: string;
  depends?: string[];
  recommends?: string[];
  section?: string;
  priority?: string;
  homepage?: string;
  /** First line: the synopsis; the rest: the long description. */
  description: string;
  files: PackageFile[];
  conffiles?: string[];
  scripts?: { preinst?: string; postinst?: string; prerm?: string; postrm?: string };
  sourceDateEpoch?: number;
}
export function debControlText(spec: DebSpec, installedSize: number): string;
export function buildDeb(spec: DebSpec): BuiltPackage;
