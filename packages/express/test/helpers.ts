// The HTTP/1.1 test kit is shared with the other packages' tests.
export { listen as serve, once, type RawClient, rawClient } from '../../core/test/helpers.js'
