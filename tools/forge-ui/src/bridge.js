// The parts of the real @forge/bridge the page uses, bundled by esbuild. The
// page imports this file only inside Forge (when window.__bridge exists):
// each module asks for the bridge when it loads and throws without it.
// Files are named one by one because the package's index also pulls in the
// ADF renderer and iframe-resizer (30 KB) that this page never uses; the
// package's `exports` map names only its index, hence the paths.
export { requestRemote } from '../node_modules/@forge/bridge/out/fetch/index.js';
export { getContext } from '../node_modules/@forge/bridge/out/view/getContext.js';
export { createHistory } from '../node_modules/@forge/bridge/out/view/createHistory.js';
export { theme } from '../node_modules/@forge/bridge/out/view/theme.js';
