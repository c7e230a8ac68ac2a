/* kp-cli-batch-private.h: what kp-cli-batch.c shares with the other
 * batch commands (kp-cli-quality.c): the batch file, the session of a
 * command on an existing batch, its assignments, and the image formats
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "kp-mturk-client.h"

G_BEGIN_DECLS

/* Reporting: "kempelenctl: MESSAGE" on stderr. fail and fail_message
 * return EXIT_FAILURE; usage_error adds a hint to run COMMAND --help and
 * returns 2. */
int          kp_batch_fail           (const GError *error);
int          kp_batch_fail_message   (const char   *format,
                                      ...) G_GNUC_PRINTF (1, 2);
int          kp_batch_usage_error    (const char   *command,
                                      const char   *format,
                                      ...) G_GNUC_PRINTF (2, 3);

/* A string or integer member, or NULL / 0 when absent or of another type. */
const char  *kp_batch_get_string     (JsonObject   *object,
                                      const char   *name);
gint64       kp_batch_get_int        (JsonObject   *object,
                                      const char   *name);
/* An AWS timestamp member (epoch seconds) as ISO 8601 UTC, or NULL. */
char        *kp_batch_dup_time       (JsonObject   *object,
                                      const char   *name);
/* Strings as they are, anything else as JSON ("" for NULL). */
char        *kp_batch_dup_node_text  (JsonNode     *node);
/* Dotted members, numbers indexing arrays; NULL when absent. */
JsonNode    *kp_batch_lookup_path    (JsonNode     *node,
                                      const char   *path);

/* The batch file (docs/batches.md). */
typedef struct
{
  char       *path;
  JsonObject *root;
  JsonObject *batches;
} KpBatchFile;

void         kp_batch_file_free      (KpBatchFile  *file);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpBatchFile, kp_batch_file_free)

/* A command on an existing batch. */
typedef struct
{
  KpBatchFile   *file;
  JsonObject    *batch;   /* in file */
  KpMturkClient *client;
} KpBatchSession;

void         kp_batch_session_clear  (KpBatchSession *session);
/* Opens the batch file (--batch-file), finds batch_id (NULL: the batch
 * created last) and makes its client (--endpoint, --profile). */
gboolean     kp_batch_session_open   (KpBatchSession *session,
                                      const char     *batch_id,
                                      GError        **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (KpBatchSession, kp_batch_session_clear)

/* Parses a command's options (plus --batch-file, --endpoint, --profile)
 * and its [BATCH] argument; FALSE with *status set on a usage error. */
gboolean     kp_batch_parse_command  (const char          *command,
                                      const char          *summary,
                                      const GOptionEntry  *entries,
                                      int                 *argc,
                                      char              ***argv,
                                      const char         **batch_id,
                                      int                 *status);

/* True for the rows of gold questions (batch create --gold). */
gboolean     kp_batch_row_is_gold    (JsonObject   *row);

/* One assignment of the batch. */
typedef struct
{
  JsonObject *row;          /* borrowed from the batch */
  JsonObject *assignment;   /* owned */
  JsonNode   *answer;       /* owned: the crowd answer (kp_answer_object_from_xml ()) */
} KpBatchWork;

void         kp_batch_work_free      (KpBatchWork  *work);
/* Every Submitted, Approved and Rejected assignment of the batch's HITs,
 * through ListAssignmentsForHIT. */
GPtrArray   *kp_batch_list_work      (KpMturkClient *client,
                                      JsonObject    *batch,
                                      GError       **error);

/* Output */
void         kp_batch_write_line     (GString      *out,
                                      JsonObject   *object);
gboolean     kp_batch_write_file     (const char   *path,
                                      GString      *contents,
                                      GError      **error);

/* The image formats (coco, voc, yolo) of the boxes of the layout's first
 * named crowd-bounding-box. */
typedef struct
{
  JsonObject *row;
  char       *image;
  char       *name;       /* for VOC and YOLO file names */
  gint64      width;
  gint64      height;
  GPtrArray  *boxes;      /* JsonObject *: the answer's boundingBoxes, plus workerId and
                           * assignmentId, or confidence for consolidated boxes */
} KpBatchImage;

void         kp_batch_image_free     (KpBatchImage *image);
/* One image per row of the batch (gold rows too when include_gold), no
 * boxes yet. Fails when the layout has no named crowd-bounding-box. */
GPtrArray   *kp_batch_images_new     (JsonObject   *batch,
                                      gboolean      include_gold,
                                      GError      **error);
/* Adds the boxes of one crowd answer (an object, element name → value) to
 * image, with worker_id and assignment_id (either may be NULL) and, when
 * objects is not NULL, the "confidence" of each objects element (the
 * consolidator's Objects of the box element, in the boxes' order). */
void         kp_batch_image_add_answer (KpBatchImage *image,
                                        JsonObject   *batch,
                                        JsonNode     *answer,
                                        const char   *worker_id,
                                        const char   *assignment_id,
                                        JsonArray    *objects);
/* Every assignment's boxes: kp_batch_images_new () + add_answer. */
GPtrArray   *kp_batch_collect_images (JsonObject   *batch,
                                      GPtrArray    *works,
                                      GError      **error);
/* COCO: boxes with a confidence get it as "score"; boxes with a worker get
 * attributes.worker_id and assignment_id. */
GString     *kp_batch_format_coco    (JsonObject   *batch,
                                      GPtrArray    *images);
gboolean     kp_batch_write_voc      (JsonObject   *batch,
                                      GPtrArray    *images,
                                      const char   *folder,
                                      GError      **error);
gboolean     kp_batch_write_yolo     (JsonObject   *batch,
                                      GPtrArray    *images,
                                      const char   *folder,
                                      GError      **error);

/* kp-cli-quality.c */
int          kp_batch_run_consolidate (int    argc,
                                       char **argv);
int          kp_batch_run_scores      (int    argc,
                                       char **argv);

G_END_DECLS
