import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

// Every API schema is built from this `z`, so each one can carry its OpenAPI description (`.openapi()`).
extendZodWithOpenApi(z);

export { z };
