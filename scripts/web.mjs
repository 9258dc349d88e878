// Builds the renderer and serves the web build (the web host) on localhost.
import { build, preview } from 'vite';

await build({ logLevel: 'warn' });
const server = await preview();
const port = server.config.preview.port;
console.log(`APS Studio (web) is running at http://127.0.0.1:${port}/`);
