export { isPublicAddress } from '../jitsi-load-balancing/valid-address.js';
