/** The HostApi this page runs under: Electron's preload if present, else the web host. */
import type { HostApi } from '../../main/api/host-api.ts';
import { createWebHost } from './web-host.ts';

declare global {
  interface Window {
    apsHost?: HostApi;
  }
}

let host: HostApi | null = null;

export function getHost(): HostApi {
  host ??= window.apsHost ?? createWebHost();
  return host;
}
