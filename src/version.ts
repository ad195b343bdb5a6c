declare const __WANBOND_VERSION__: string | undefined;

/** Package version, injected by the bundler; read from package.json when run from source. */
export const VERSION: string =
  typeof __WANBOND_VERSION__ === 'string' ? __WANBOND_VERSION__ : process.env.npm_package_version ?? '0.0.0-dev';
