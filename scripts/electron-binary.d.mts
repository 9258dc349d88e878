/** Finds the Electron executable without triggering the electron package's lazy download. */
export function findElectronBinary(): { path: string } | { missing: string };
