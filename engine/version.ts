/** Engine version, reported to hosts in the session handshake and by `aps --version`. */
export const ENGINE_VERSION = '0.1.0';
