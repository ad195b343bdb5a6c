import type { IpkSpec } from './ipk.mjs';
import type { DebSpec } from './deb.mjs';

export const ROOT: string;
export const MAINTAINER: string;
export const HOMEPAGE: string;
export const LICENSE: string;
export const FEED_MAKEFILE: string;
export const NOTICES: string;
export const OPENWRT_DEPENDS: string[];
export const DEBIAN_DEPENDS: string[];
export function packageVersion(): string;
export function feedDefine(name: string, makefile?: string): string | undefined;
export function wanbondIpkSpec(options?: { bundle?: string; config?: string; version?: string }): IpkSpec;
export function wanbondDebSpec(options?: { bundle?: string; version?: string; epoch?: number }): DebSpec;
