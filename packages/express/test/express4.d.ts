// `express4` is an npm alias of express@4; its API is typed here with Express's own types.
declare module 'express4' {
  import express = require('express')
  export = express
}
