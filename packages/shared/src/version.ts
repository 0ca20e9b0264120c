// The release version; the CLI bundle and the wire handshake report it.
export const VERSION = "0.1.0";
