// Worker thread entry of the local executor. Node 20 does not pass the parent's TypeScript loader
// to worker threads, so this plain-JS entry loads worker.ts through tsx's API.
import { tsImport } from 'tsx/esm/api';

await tsImport('./worker.ts', import.meta.url);
