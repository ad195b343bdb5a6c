export function bundledPackages(root: string): { name: string; version: string; license: string; text: string }[];
export function thirdPartyLicenses(root: string, options?: { commonLicenses?: boolean }): string;
